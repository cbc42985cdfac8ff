package org.iotgateway.mqtt;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Topic filters that change while the gateway runs, for a {@code from: mqtt:} endpoint (option
 * {@code subscriptions=#<bean>}): the Channels groups' filters, the request topics of the AEs a oneM2M binding reaches
 * over HTTP. The bean decides what to subscribe; the endpoint subscribes it on its connection and runs the route for
 * the messages.
 */
public interface DynamicSubscriptions {

    /**
     * A consumer starts: from now on the bean subscribes and unsubscribes through {@code subscriber}.
     *
     * @return the subscriptions the bean wants now
     */
    List<Subscription> attach(Subscriber subscriber);

    /** The consumer stops: {@code subscriber} takes no more calls. */
    void detach(Subscriber subscriber);

    /** Subscribes for one {@code from: mqtt:} endpoint; each future completes when the broker has answered. */
    interface Subscriber {
        CompletableFuture<Void> subscribe(Subscription subscription);

        CompletableFuture<Void> unsubscribe(TopicFilter filter);
    }
}
