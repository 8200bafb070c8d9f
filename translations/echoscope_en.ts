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
