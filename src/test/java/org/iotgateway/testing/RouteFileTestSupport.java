package org.iotgateway.testing;

import java.util.Properties;

import org.apache.camel.CamelContext;
import org.apache.camel.support.PluginHelper;
import org.apache.camel.support.ResourceHelper;
import org.apache.camel.test.junit5.CamelTestSupport;

/**
 * A route-level test of one shipped route file, the Camel way: the file's routes in a context of their own, with the
 * application's settings, advised (AdviceWith) to replace its edge endpoints before the context starts, so that a
 * route edit can be tested without the rest of the gateway. Beans the file declares that hold a connection (a broker's,
 * a store's) get the tests' services. Subclasses name the file and advise its routes in
 * {@link #advise()}.
 */
public abstract class RouteFileTestSupport extends CamelTestSupport {

    /** The route file under test, from the project root: routes/&lt;group&gt;/&lt;name&gt;.camel.yaml. */
    protected abstract String routeFile();

    /** Replaces the edge endpoints of the file's routes (AdviceWith); the context starts afterwards. */
    protected abstract void advise() throws Exception;

    @Override
    public boolean isUseAdviceWith() {
        return true;
    }

    /** The tests' services (TestServices) for the beans a route file declares; subclasses add their own settings. */
    @Override
    protected Properties useOverridePropertiesWithPropertiesComponent() {
        Properties properties = new Properties();
        properties.putAll(TestServices.addresses());
        return properties;
    }

    @Override
    protected CamelContext createCamelContext() throws Exception {
        CamelContext context = super.createCamelContext();
        context.getPropertiesComponent().setLocation("file:application.properties");
        return context;
    }

    @Override
    protected void doPostSetup() throws Exception {
        PluginHelper.getRoutesLoader(context).loadRoutes(ResourceHelper.resolveMandatoryResource(context, "file:" + routeFile()));
        advise();
        context.start();
    }
}
