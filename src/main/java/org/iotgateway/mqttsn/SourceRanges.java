package org.iotgateway.mqttsn;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

import io.netty.handler.ipfilter.IpFilterRuleType;
import io.netty.handler.ipfilter.IpSubnetFilterRule;
import io.netty.util.NetUtil;

/** Source addresses named by a setting: addresses and CIDR blocks separated by commas, or {@code *} for any. */
final class SourceRanges {

    private final boolean any;
    private final List<IpSubnetFilterRule> blocks;

    private SourceRanges(boolean any, List<IpSubnetFilterRule> blocks) {
        this.any = any;
        this.blocks = blocks;
    }

    /** Parses the setting; empty or null names none. */
    static SourceRanges parse(String setting, String name) {
        List<IpSubnetFilterRule> blocks = new ArrayList<>();
        boolean any = false;
        for (String item : setting == null ? new String[0] : setting.split(",")) {
            String range = item.trim();
            if (range.isEmpty()) {
                continue;
            }
            if (range.equals("*")) {
                any = true;
                continue;
            }
            int slash = range.indexOf('/');
            String ip = slash < 0 ? range : range.substring(0, slash);
            if (!NetUtil.isValidIpV4Address(ip) && !NetUtil.isValidIpV6Address(ip)) {
                throw new IllegalArgumentException(name + ": '" + range + "' is not an IP address or CIDR block");
            }
            int prefix;
            try {
                prefix = slash < 0 ? (NetUtil.isValidIpV4Address(ip) ? 32 : 128) : Integer.parseInt(range.substring(slash + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(name + ": '" + range + "' has no valid prefix length");
            }
            if (prefix < 0 || prefix > (NetUtil.isValidIpV4Address(ip) ? 32 : 128)) {
                throw new IllegalArgumentException(name + ": prefix length " + prefix + " in '" + range + "' is out of range");
            }
            blocks.add(new IpSubnetFilterRule(ip, prefix, IpFilterRuleType.ACCEPT));
        }
        return new SourceRanges(any, List.copyOf(blocks));
    }

    boolean includes(InetSocketAddress source) {
        if (any) {
            return true;
        }
        for (IpSubnetFilterRule block : blocks) {
            if (block.matches(source)) {
                return true;
            }
        }
        return false;
    }
}
