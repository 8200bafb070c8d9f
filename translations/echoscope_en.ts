<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en_US">
<context>
    <name>Echoscope::Acceptor</name>
    <message numerus="yes">
        <source>cannot accept connections: %1 (open-file limit %2, %3 client(s) connected); %4</source>
        <translation>
            <numerusform>cannot accept connections: %1 (open-file limit %2, %3 client connected); %4</numerusform>
            <numerusform>cannot accept connections: %1 (open-file limit %2, %3 clients connected); %4</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Echoscope::ClientInspector</name>
    <message numerus="yes">
        <source>%1 ping(s)</source>
        <translation>
            <numerusform>%1 ping</numerusform>
            <numerusform>%1 pings</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%1 frame(s)</source>
        <translation>
            <numerusform>%1 frame</numerusform>
            <numerusform>%1 frames</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Echoscope::ClientSession</name>
    <message numerus="yes">
        <source>%1 byte(s) of echo could not be sent</source>
        <translation>
            <numerusform>%1 byte of echo could not be sent</numerusform>
            <numerusform>%1 bytes of echo could not be sent</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%1 byte(s) that arrived while reading was off were not echoed</source>
        <translation>
            <numerusform>%1 byte that arrived while reading was off was not echoed</numerusform>
            <numerusform>%1 bytes that arrived while reading was off were not echoed</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>an incomplete message of %1 byte(s) was not echoed</source>
        <translation>
            <numerusform>an incomplete message of %1 byte was not echoed</numerusform>
            <numerusform>an incomplete message of %1 bytes was not echoed</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Echoscope::ClientsPane</name>
    <message numerus="yes">
        <source>%Ln shown</source>
        <translation>
            <numerusform>%Ln shown</numerusform>
            <numerusform>%Ln shown</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Echoscope::EchoServer</name>
    <message numerus="yes">
        <source>+%1 connection(s) refused in the last second: %2</source>
        <translation>
            <numerusform>+%1 connection refused in the last second: %2</numerusform>
            <numerusform>+%1 connections refused in the last second: %2</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>served %1 client(s) (%2 refused, peak %3 at once) in %4 s; %5 in, %6 out, %7 messages in, %8 out</source>
        <translation>
            <numerusform>served %1 client (%2 refused, peak %3 at once) in %4 s; %5 in, %6 out, %7 messages in, %8 out</numerusform>
            <numerusform>served %1 clients (%2 refused, peak %3 at once) in %4 s; %5 in, %6 out, %7 messages in, %8 out</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Echoscope::EventLogModel</name>
    <message numerus="yes">
        <source>+%Ln message(s) (%1) from %2 in the last second</source>
        <translation>
            <numerusform>+%Ln message (%1) from %2 in the last second</numerusform>
            <numerusform>+%Ln messages (%1) from %2 in the last second</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>+%Ln connection(s) refused in the last second (%1)</source>
        <translation>
            <numerusform>+%Ln connection refused in the last second (%1)</numerusform>
            <numerusform>+%Ln connections refused in the last second (%1)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%Ln event(s) not shown: the log fell behind</source>
        <translation>
            <numerusform>%Ln event not shown: the log fell behind</numerusform>
            <numerusform>%Ln events not shown: the log fell behind</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Echoscope::FaultInjector</name>
    <message numerus="yes">
        <source>%1 message(s) delayed (%2 ms on average)</source>
        <translation>
            <numerusform>%1 message delayed (%2 ms on average)</numerusform>
            <numerusform>%1 messages delayed (%2 ms on average)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%1 slice(s) written</source>
        <translation>
            <numerusform>%1 slice written</numerusform>
            <numerusform>%1 slices written</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%1 message(s) discarded by the blackhole (%2)</source>
        <translation>
            <numerusform>%1 message discarded by the blackhole (%2)</numerusform>
            <numerusform>%1 messages discarded by the blackhole (%2)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%1 message(s) spared by the toxicity draw</source>
        <translation>
            <numerusform>%1 message spared by the toxicity draw</numerusform>
            <numerusform>%1 messages spared by the toxicity draw</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Echoscope::LoadGenerator</name>
    <message numerus="yes">
        <source>%1 connection(s)</source>
        <translation>
            <numerusform>%1 connection</numerusform>
            <numerusform>%1 connections</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%2 of %1 connection(s) held and still echoing</source>
        <translation>
            <numerusform>%2 of %1 connection held and still echoing</numerusform>
            <numerusform>%2 of %1 connections held and still echoing</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>; %1 error(s)</source>
        <translation>
            <numerusform>; %1 error</numerusform>
            <numerusform>; %1 errors</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Echoscope::MainWindow</name>
    <message numerus="yes">
        <source>Disconnected %Ln client(s)</source>
        <translation>
            <numerusform>Disconnected %Ln client</numerusform>
            <numerusform>Disconnected %Ln clients</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Echoscope::Replayer</name>
    <message numerus="yes">
        <source>%1 byte(s)</source>
        <translation>
            <numerusform>%1 byte</numerusform>
            <numerusform>%1 bytes</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%1 byte(s) differ (the first at offset %2)</source>
        <translation>
            <numerusform>%1 byte differs (the first at offset %2)</numerusform>
            <numerusform>%1 bytes differ (the first at offset %2)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>short echo: %1 byte(s) missing</source>
        <translation>
            <numerusform>short echo: %1 byte missing</numerusform>
            <numerusform>short echo: %1 bytes missing</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%1 byte(s) past the expected echo</source>
        <translation>
            <numerusform>%1 byte past the expected echo</numerusform>
            <numerusform>%1 bytes past the expected echo</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%1 message(s)</source>
        <translation>
            <numerusform>%1 message</numerusform>
            <numerusform>%1 messages</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%1 message(s) differ (the first: message %2 %3)</source>
        <translation>
            <numerusform>%1 message differs (the first: message %2 %3)</numerusform>
            <numerusform>%1 messages differ (the first: message %2 %3)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>short echo: %1 message(s) missing (%2), from message %3 on</source>
        <translation>
            <numerusform>short echo: %1 message missing (%2), from message %3 on</numerusform>
            <numerusform>short echo: %1 messages missing (%2), from message %3 on</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%1 message(s) past the expected echo (%2)</source>
        <translation>
            <numerusform>%1 message past the expected echo (%2)</numerusform>
            <numerusform>%1 messages past the expected echo (%2)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>the server closed the connection with %1 byte(s) of the recording not sent</source>
        <translation>
            <numerusform>the server closed the connection with %1 byte of the recording not sent</numerusform>
            <numerusform>the server closed the connection with %1 bytes of the recording not sent</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>the server took none of %1 byte(s) waiting to be sent for %2 s</source>
        <translation>
            <numerusform>the server took none of %1 byte waiting to be sent for %2 s</numerusform>
            <numerusform>the server took none of %1 bytes waiting to be sent for %2 s</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Echoscope::ThroughputChart</name>
    <message numerus="yes">
        <source>%Ln client(s)</source>
        <translation>
            <numerusform>%Ln client</numerusform>
            <numerusform>%Ln clients</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Echoscope::UdpEchoService</name>
    <message numerus="yes">
        <source>%n held datagram(s) dropped: the peer was forgotten (%1)</source>
        <translation>
            <numerusform>%n held datagram dropped: the peer was forgotten (%1)</numerusform>
            <numerusform>%n held datagrams dropped: the peer was forgotten (%1)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>+%1 UDP datagram(s) refused in the last second: %2</source>
        <translation>
            <numerusform>+%1 UDP datagram refused in the last second: %2</numerusform>
            <numerusform>+%1 UDP datagrams refused in the last second: %2</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>oversized datagram of %1 byte(s) from %2: over the limit of %3 bytes, not echoed</source>
        <translation>
            <numerusform>oversized datagram of %1 byte from %2: over the limit of %3 bytes, not echoed</numerusform>
            <numerusform>oversized datagram of %1 bytes from %2: over the limit of %3 bytes, not echoed</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>echo of %1 byte(s) to %2 dropped: %3</source>
        <translation>
            <numerusform>echo of %1 byte to %2 dropped: %3</numerusform>
            <numerusform>echo of %1 bytes to %2 dropped: %3</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%1; UDP datagram of %2 byte(s) dropped</source>
        <translation>
            <numerusform>%1; UDP datagram of %2 byte dropped</numerusform>
            <numerusform>%1; UDP datagram of %2 bytes dropped</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>+%1 oversized UDP datagram(s) not echoed in the last second, not shown one by one</source>
        <translation>
            <numerusform>+%1 oversized UDP datagram not echoed in the last second, not shown one by one</numerusform>
            <numerusform>+%1 oversized UDP datagrams not echoed in the last second, not shown one by one</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>+%1 UDP echo(es) dropped in the last second, not shown one by one</source>
        <translation>
            <numerusform>+%1 UDP echo dropped in the last second, not shown one by one</numerusform>
            <numerusform>+%1 UDP echoes dropped in the last second, not shown one by one</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>+%1 ICMP error(s) about UDP echoes in the last second, not shown one by one</source>
        <translation>
            <numerusform>+%1 ICMP error about UDP echoes in the last second, not shown one by one</numerusform>
            <numerusform>+%1 ICMP errors about UDP echoes in the last second, not shown one by one</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>+%1 UDP receive error(s) in the last second, not shown one by one</source>
        <translation>
            <numerusform>+%1 UDP receive error in the last second, not shown one by one</numerusform>
            <numerusform>+%1 UDP receive errors in the last second, not shown one by one</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Echoscope::WebSocketReplayer</name>
    <message numerus="yes">
        <source>the recording ends before its connection did: the echo of the first %1 message(s) must match, and of the other %2 may come</source>
        <translation>
            <numerusform>the recording ends before its connection did: the echo of the first %1 message must match, and of the other %2 may come</numerusform>
            <numerusform>the recording ends before its connection did: the echo of the first %1 messages must match, and of the other %2 may come</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>has %1 byte(s), expected %2</source>
        <translation>
            <numerusform>has %1 byte, expected %2</numerusform>
            <numerusform>has %1 bytes, expected %2</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>, with %1 message(s) of the recording not sent</source>
        <translation>
            <numerusform>, with %1 message of the recording not sent</numerusform>
            <numerusform>, with %1 messages of the recording not sent</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>the server took none of %1 byte(s) waiting to be sent for %2 s</source>
        <translation>
            <numerusform>the server took none of %1 byte waiting to be sent for %2 s</numerusform>
            <numerusform>the server took none of %1 bytes waiting to be sent for %2 s</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Echoscope::WebSocketTransport</name>
    <message numerus="yes">
        <source>%1 byte(s) of echo do not belong to any message</source>
        <translation>
            <numerusform>%1 byte of echo does not belong to any message</numerusform>
            <numerusform>%1 bytes of echo do not belong to any message</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>a frame or message over the limit of %1 byte(s); closed with %2</source>
        <translation>
            <numerusform>a frame or message over the limit of %1 byte; closed with %2</numerusform>
            <numerusform>a frame or message over the limit of %1 bytes; closed with %2</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>; %1 byte(s) of frames that arrived while reading was off were not read</source>
        <translation>
            <numerusform>; %1 byte of frames that arrived while reading was off was not read</numerusform>
            <numerusform>; %1 bytes of frames that arrived while reading was off were not read</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Units</name>
    <message numerus="yes">
        <source>%1 byte(s)</source>
        <translation>
            <numerusform>%1 byte</numerusform>
            <numerusform>%1 bytes</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%1 message(s)</source>
        <translation>
            <numerusform>%1 message</numerusform>
            <numerusform>%1 messages</numerusform>
        </translation>
    </message>
</context>
</TS>
