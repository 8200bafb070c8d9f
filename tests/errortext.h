#pragma once

// The reasons a failure message must carry, as this process renders them: in its locale
// and with its Qt, the same as the program under test (same environment, same functions).
// Tests compare with these, never with English words ("No such file or directory",
// "in use"), so they hold in every language; CI runs the suite once under de_DE.UTF-8.

#include <QByteArray>
#include <QHostAddress>
#include <QString>
#include <QTcpServer>

#include <cerrno>

namespace EchoTest {

// The operating system's text for an errno value, as Qt renders it (qt_error_string(), the
// function behind QFile::errorString() and the engine's native socket errors).
inline QString osErrorText(int errorCode)
{
    return qt_error_string(errorCode);
}

inline QByteArray osErrorUtf8(int errorCode)
{
    return osErrorText(errorCode).toUtf8();
}

// What QTcpServer::errorString() says when the address and port are taken: the reason a
// TCP listen failure on them (the engine's acceptor, the metrics endpoint) carries.
inline QString tcpPortInUseText(const QHostAddress &address, quint16 port)
{
    QTcpServer second;
    if (second.listen(address, port))
        return QString(); // not taken after all: no text to compare with
    return second.errorString();
}

} // namespace EchoTest
