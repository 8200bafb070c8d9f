<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en_US">
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
    <name>Echoscope::EchoServer</name>
    <message numerus="yes">
        <source>served %1 client(s) (%2 refused, peak %3 at once) in %4 s; %5 bytes in, %6 bytes out, %7 messages in, %8 out</source>
        <translation>
            <numerusform>served %1 client (%2 refused, peak %3 at once) in %4 s; %5 bytes in, %6 bytes out, %7 messages in, %8 out</numerusform>
            <numerusform>served %1 clients (%2 refused, peak %3 at once) in %4 s; %5 bytes in, %6 bytes out, %7 messages in, %8 out</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>+%1 connection(s) refused in the last second: %2</source>
        <translation>
            <numerusform>+%1 connection refused in the last second: %2</numerusform>
            <numerusform>+%1 connections refused in the last second: %2</numerusform>
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
</context>
<context>
    <name>Echoscope::MainWindow</name>
    <message numerus="yes">
        <source>%Ln shown</source>
        <translation>
            <numerusform>%Ln shown</numerusform>
            <numerusform>%Ln shown</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Disconnected %Ln client(s)</source>
        <translation>
            <numerusform>Disconnected %Ln client</numerusform>
            <numerusform>Disconnected %Ln clients</numerusform>
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
        <source>+%1 UDP datagram(s) refused in the last second: %2</source>
        <translation>
            <numerusform>+%1 UDP datagram refused in the last second: %2</numerusform>
            <numerusform>+%1 UDP datagrams refused in the last second: %2</numerusform>
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
