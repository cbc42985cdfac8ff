package org.iotgateway;

import org.apache.camel.CamelContext;
import org.apache.camel.StartupListener;
import org.apache.camel.component.micrometer.eventnotifier.MicrometerRouteEventNotifier;
import org.apache.camel.main.BaseMainSupport;
import org.apache.camel.main.MainListenerSupport;
import org.apache.camel.spi.EventNotifier;
import org.apache.camel.support.EventHelper;

/**
 * Once the context has started: opts camel-micrometer's route notifier (the camel_routes_* gauges) out of exchange
 * events, which it does not use but does not ignore. While any notifier does not ignore them, Camel creates and
 * dispatches three to five event objects for every exchange of every route: on the MQTT-SN path, for every reading.
 * Notifiers an operator adds are left as they are, and Camel still raises exchange events for them if they want them.
 * The fix belongs in camel-micrometer (its notifier could ignore exchange events itself); this goes once it does, and
 * RouteGroupsTest shows whether it still must.
 */
final class ExchangeEventsOptOut extends MainListenerSupport implements StartupListener {

    @Override
    public void beforeConfigure(BaseMainSupport main) {
        try {
            main.getCamelContext().addStartupListener(this);
        } catch (Exception e) {
            throw new IllegalStateException("Cannot watch the context start", e);
        }
    }

    @Override
    public void onCamelContextStarted(CamelContext context, boolean alreadyStarted) {
        // nothing yet: the notifiers are all there once the context has fully started
    }

    @Override
    public void onCamelContextFullyStarted(CamelContext context, boolean alreadyStarted) {
        for (EventNotifier notifier : context.getManagementStrategy().getEventNotifiers()) {
            if (notifier instanceof MicrometerRouteEventNotifier) {
                notifier.setIgnoreExchangeEvents(true);
            }
        }
        // Camel decides this as each notifier is added, by its flag at that moment, and never again: decide it anew
        context.getCamelContextExtension().setEventNotificationApplicable(EventHelper.eventsApplicable(context));
    }
}
