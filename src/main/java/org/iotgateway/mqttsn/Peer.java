package org.iotgateway.mqttsn;

import java.net.InetSocketAddress;
import java.util.HexFormat;

import io.netty.util.NetUtil;
import org.iotgateway.mqttsn.protocol.Encoder;
import org.iotgateway.mqttsn.protocol.Frame;

/**
 * The client a datagram came from: where replies go (the exact sender, from the listening socket, wrapped again when
 * a forwarder relayed it) and the key that names it in the store.
 */
final class Peer {

    private final ReplyWriter replies;
    private final InetSocketAddress sender;
    private final int forwarderCtrl;
    private final byte[] wirelessNodeId;
    private final String clientKey;

    Peer(ReplyWriter replies, InetSocketAddress sender, Frame frame, boolean portInKey) {
        this.replies = replies;
        this.sender = sender;
        this.forwarderCtrl = frame.forwarderCtrl();
        this.wirelessNodeId = frame.wirelessNodeId();
        // the Python gateway's key: client:{ip} or client:{ip}:{port}; a forwarded client adds its node id
        String ip = NetUtil.toAddressString(sender.getAddress());
        String key = portInKey ? ip + ':' + sender.getPort() : ip;
        this.clientKey = wirelessNodeId == null ? key : key + '/' + HexFormat.of().formatHex(wirelessNodeId);
    }

    String clientKey() {
        return clientKey;
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
