package org.iotgateway.mqttsn;

import java.net.InetSocketAddress;
import java.util.HexFormat;

import io.netty.util.NetUtil;
import org.iotgateway.mqttsn.protocol.Encoder;
import org.iotgateway.mqttsn.protocol.Frame;

/**
 * The client a datagram came from: where replies go (the exact sender, from the listening socket, wrapped again when
 * a forwarder relayed it) and the keys that name it in the store: {@link #clientKey()} its exact address, the session's
 * own binding, and {@link #sharedKey()} the Python gateway's {@code client:{ip}} that devices behind one address share.
 */
final class Peer {

    private final ReplyWriter replies;
    private final InetSocketAddress sender;
    private final int forwarderCtrl;
    private final byte[] wirelessNodeId;
    private final boolean portInKey;
    private final String clientKey;

    Peer(ReplyWriter replies, InetSocketAddress sender, Frame frame, boolean portInKey) {
        this(replies, sender, frame.forwarderCtrl(), frame.wirelessNodeId(), portInKey);
    }

    private Peer(ReplyWriter replies, InetSocketAddress sender, int forwarderCtrl, byte[] wirelessNodeId, boolean portInKey) {
        this.replies = replies;
        this.sender = sender;
        this.forwarderCtrl = forwarderCtrl;
        this.wirelessNodeId = wirelessNodeId;
        this.portInKey = portInKey;
        // the Python gateway's key with its port setting: client:{ip}:{port}; a forwarded client adds its node id
        this.clientKey = withNode(NetUtil.toAddressString(sender.getAddress()) + ':' + sender.getPort());
    }

    /** ip:port, with /node for a client behind a forwarder: the address a session is bound to. */
    String clientKey() {
        return clientKey;
    }

    /** ip, with /node for a client behind a forwarder, as the Python gateway keys clients by default; null with the port setting. */
    String sharedKey() {
        return portInKey ? null : addressKey();
    }

    /** ip, with /node for a client behind a forwarder, whichever key clients are bound by: clients are counted per address. */
    String addressKey() {
        return withNode(NetUtil.toAddressString(sender.getAddress()));
    }

    /** The sender's UDP address (the forwarder's, for a client behind one). */
    InetSocketAddress sender() {
        return sender;
    }

    private String withNode(String key) {
        return wirelessNodeId == null ? key : key + '/' + HexFormat.of().formatHex(wirelessNodeId);
    }

    /**
     * Where the client can be reached, as the store keeps it for messages to it: {@code ip|port|ctrl|node hex}, ctrl
     * -1 and no node for a client that sends directly.
     */
    String address() {
        return NetUtil.toAddressString(sender.getAddress()) + '|' + sender.getPort() + '|' + forwarderCtrl + '|'
                + (wirelessNodeId == null ? "" : HexFormat.of().formatHex(wirelessNodeId));
    }

    /** The client at an {@link #address()} the store kept, replied to through this socket's writer. */
    static Peer at(ReplyWriter replies, String address, boolean portInKey) {
        String[] parts = address.split("\\|", -1);
        InetSocketAddress sender = new InetSocketAddress(NetUtil.createInetAddressFromIpAddressString(parts[0]),
                Integer.parseInt(parts[1]));
        return new Peer(replies, sender, Integer.parseInt(parts[2]),
                parts[3].isEmpty() ? null : HexFormat.of().parseHex(parts[3]), portInKey);
    }

    /** ip:port of the sender, with /node for a client behind a forwarder. */
    String source() {
        String address = NetUtil.toSocketAddressString(sender);
        return wirelessNodeId == null ? address : address + '/' + HexFormat.of().formatHex(wirelessNodeId);
    }

    void reply(byte[] message) {
        byte[] datagram = wirelessNodeId == null ? message : Encoder.encapsulate(forwarderCtrl, wirelessNodeId, message);
        replies.send(datagram, sender);
    }

    @Override
    public String toString() {
        return source();
    }
}
