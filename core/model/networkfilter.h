#pragma once

#include "refusalreason.h"

#include <QCoreApplication>
#include <QHostAddress>
#include <QList>
#include <QPair>
#include <QString>

namespace Echoscope {

// Which client networks may connect: an optional allow list and an optional deny list
// of CIDR networks, checked when a connection is accepted. A peer in a denied network
// is refused; otherwise, if there is an allow list, a peer in none of its networks is
// refused; otherwise it is let in. An empty filter lets everyone in.
//
// IPv4 clients of a dual-stack socket are matched as IPv4 (127.0.0.1, not
// ::ffff:127.0.0.1), and an IPv4-mapped network (::ffff:10.0.0.0/104) is kept as the
// IPv4 network it names (10.0.0.0/8).
class NetworkFilter
{
    Q_DECLARE_TR_FUNCTIONS(Echoscope::NetworkFilter) // the context lupdate gives it

public:
    using Subnet = QPair<QHostAddress, int>; // network address, prefix length

    NetworkFilter() = default;
    NetworkFilter(const QList<Subnet> &allow, const QList<Subnet> &deny);

    bool isEmpty() const { return m_allow.isEmpty() && m_deny.isEmpty(); }
    // Empty if the peer may connect; else why not, as a clause for the log:
    // "address 10.1.2.3 is not allowed (--allow 127.0.0.0/8)" or
    // "address 10.1.2.3 is denied by --deny 10.0.0.0/8".
    QString refusalReason(const QHostAddress &peer) const;
    // What a summary of many refusals says: "not in --allow 127.0.0.0/8" etc.
    QString refusalCategory(const QHostAddress &peer) const;
    // The reason, as an enum, for a peer refusalReason() refuses.
    RefusalReason refusalKind(const QHostAddress &peer) const;

    // Parses one or more networks separated by commas: "10.0.0.0/8,::1/128". A bare
    // address is one host (/32 or /128); host bits are cleared (10.1.2.3/8 is
    // 10.0.0.0/8). Appends to *subnets; on failure sets *error (a clause naming the
    // piece that is wrong) and returns false, leaving *subnets as it was.
    static bool parseList(const QString &text, QList<Subnet> *subnets, QString *error);
    static bool isValid(const Subnet &subnet);
    // Whether `peer` lies in `subnet` (IPv4-mapped peers count as IPv4).
    static bool contains(const Subnet &subnet, const QHostAddress &peer);
    // "10.0.0.0/8"; a list joined with ",".
    static QString toString(const Subnet &subnet);
    static QString toString(const QList<Subnet> &subnets);

private:
    const Subnet *deniedBy(const QHostAddress &peer) const;
    bool isAllowed(const QHostAddress &peer) const;

    QList<Subnet> m_allow;
    QList<Subnet> m_deny;
};

} // namespace Echoscope
