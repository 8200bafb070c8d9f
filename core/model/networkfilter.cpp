#include "networkfilter.h"

#include <QStringList>

namespace Echoscope {

namespace {

constexpr int kV4MappedPrefix = 96; // ::ffff:0:0/96

// ::ffff:a.b.c.d as a.b.c.d; anything else as it is.
QHostAddress unmapped(const QHostAddress &address)
{
    if (address.protocol() != QAbstractSocket::IPv6Protocol)
        return address;
    const Q_IPV6ADDR bytes = address.toIPv6Address();
    for (int i = 0; i < 10; ++i) {
        if (bytes[i] != 0)
            return address;
    }
    if (bytes[10] != 0xff || bytes[11] != 0xff)
        return address;
    return QHostAddress(quint32(bytes[12]) << 24 | quint32(bytes[13]) << 16 |
                        quint32(bytes[14]) << 8 | quint32(bytes[15]));
}

bool isNetworkCharacter(QChar c)
{
    return (c >= QLatin1Char('0') && c <= QLatin1Char('9')) ||
           (c >= QLatin1Char('a') && c <= QLatin1Char('f')) ||
           (c >= QLatin1Char('A') && c <= QLatin1Char('F')) || c == QLatin1Char('.') ||
           c == QLatin1Char(':') || c == QLatin1Char('/');
}

// One "ADDRESS[/PREFIX]" piece, stricter than QHostAddress::parseSubnet() alone: no
// spaces, signs or zone ids, an explicit prefix is decimal, and IPv4 has four parts.
bool parseOne(QStringView text, NetworkFilter::Subnet *subnet)
{
    if (text.isEmpty())
        return false;
    for (const QChar c : text) {
        if (!isNetworkCharacter(c))
            return false;
    }
    const qsizetype slash = text.indexOf(QLatin1Char('/'));
    const QStringView address = slash < 0 ? text : text.left(slash);
    if (slash >= 0) {
        const QStringView prefix = text.mid(slash + 1);
        if (prefix.isEmpty() || prefix.size() > 3 || prefix.contains(QLatin1Char('/')) ||
            prefix.contains(QLatin1Char('.')) || prefix.contains(QLatin1Char(':')))
            return false;
        for (const QChar c : prefix) {
            if (c < QLatin1Char('0') || c > QLatin1Char('9'))
                return false;
        }
    }
    // A bare address must be a whole address (parseSubnet() takes "10" as 10.0.0.0/8).
    QHostAddress host;
    if (!host.setAddress(address.toString()))
        return false;
    if (host.protocol() == QAbstractSocket::IPv4Protocol && address.count(QLatin1Char('.')) != 3)
        return false;
    NetworkFilter::Subnet parsed = QHostAddress::parseSubnet(
        slash < 0 ? address.toString() + (host.protocol() == QAbstractSocket::IPv4Protocol
                                              ? QStringLiteral("/32")
                                              : QStringLiteral("/128"))
                  : text.toString());
    if (parsed.first.isNull() || parsed.second < 0)
        return false;
    const QHostAddress v4 = unmapped(parsed.first);
    if (v4.protocol() == QAbstractSocket::IPv4Protocol &&
        parsed.first.protocol() == QAbstractSocket::IPv6Protocol) {
        if (parsed.second < kV4MappedPrefix)
            return false; // reaches beyond the mapped range: say so rather than guess
        parsed = qMakePair(v4, parsed.second - kV4MappedPrefix);
    }
    *subnet = parsed;
    return true;
}

} // namespace

NetworkFilter::NetworkFilter(const QList<Subnet> &allow, const QList<Subnet> &deny)
    : m_allow(allow), m_deny(deny)
{}

const NetworkFilter::Subnet *NetworkFilter::deniedBy(const QHostAddress &peer) const
{
    for (const Subnet &subnet : m_deny) {
        if (contains(subnet, peer))
            return &subnet;
    }
    return nullptr;
}

bool NetworkFilter::isAllowed(const QHostAddress &peer) const
{
    if (m_allow.isEmpty())
        return true;
    for (const Subnet &subnet : m_allow) {
        if (contains(subnet, peer))
            return true;
    }
    return false;
}

QString NetworkFilter::refusalReason(const QHostAddress &peer) const
{
    if (isEmpty())
        return QString();
    const QHostAddress address = unmapped(peer);
    if (address.isNull())
        return tr("the peer's address is unknown (the connection was gone before it could be "
                  "checked against --allow/--deny)");
    if (const Subnet *subnet = deniedBy(address))
        return tr("address %1 is denied by --deny %2").arg(address.toString(), toString(*subnet));
    if (!isAllowed(address))
        return tr("address %1 is not allowed (--allow %2)")
            .arg(address.toString(), toString(m_allow));
    return QString();
}

QString NetworkFilter::refusalCategory(const QHostAddress &peer) const
{
    const QHostAddress address = unmapped(peer);
    if (address.isNull())
        return tr("peer address unknown");
    if (const Subnet *subnet = deniedBy(address))
        return tr("denied by --deny %1").arg(toString(*subnet));
    return tr("not allowed (--allow %1)").arg(toString(m_allow));
}

RefusalReason NetworkFilter::refusalKind(const QHostAddress &peer) const
{
    const QHostAddress address = unmapped(peer);
    if (address.isNull())
        return RefusalReason::UnknownPeer;
    return deniedBy(address) ? RefusalReason::Denied : RefusalReason::NotAllowed;
}

bool NetworkFilter::parseList(const QString &text, QList<Subnet> *subnets, QString *error)
{
    QList<Subnet> parsed;
    const QStringList pieces = text.split(QLatin1Char(','));
    for (const QString &untrimmed : pieces) {
        const QString piece = untrimmed.trimmed();
        Subnet subnet;
        if (!parseOne(piece, &subnet)) {
            if (error) {
                *error = piece.isEmpty()
                             ? tr("an empty network in the list; expected "
                                  "ADDRESS/PREFIX[,ADDRESS/PREFIX...], e.g. "
                                  "10.0.0.0/8,::1/128")
                             : QStringLiteral("\"%1\" is not a network; expected ADDRESS/PREFIX "
                                              "such as 10.0.0.0/8, 192.168.1.7 or fd00::/8")
                                   .arg(piece);
            }
            return false;
        }
        parsed.append(subnet);
    }
    subnets->append(parsed);
    return true;
}

bool NetworkFilter::isValid(const Subnet &subnet)
{
    switch (subnet.first.protocol()) {
    case QAbstractSocket::IPv4Protocol:
        return subnet.second >= 0 && subnet.second <= 32;
    case QAbstractSocket::IPv6Protocol:
        return subnet.second >= 0 && subnet.second <= 128;
    default:
        return false;
    }
}

bool NetworkFilter::contains(const Subnet &subnet, const QHostAddress &peer)
{
    const QHostAddress address = unmapped(peer);
    const QHostAddress network = unmapped(subnet.first);
    int prefix = subnet.second;
    if (network.protocol() == QAbstractSocket::IPv4Protocol &&
        subnet.first.protocol() == QAbstractSocket::IPv6Protocol)
        prefix -= kV4MappedPrefix;
    if (prefix < 0 || address.protocol() != network.protocol())
        return false;
    return address.isInSubnet(network, prefix);
}

QString NetworkFilter::toString(const Subnet &subnet)
{
    return subnet.first.toString() + QLatin1Char('/') + QString::number(subnet.second);
}

QString NetworkFilter::toString(const QList<Subnet> &subnets)
{
    QStringList texts;
    texts.reserve(subnets.size());
    for (const Subnet &subnet : subnets)
        texts.append(toString(subnet));
    return texts.join(QLatin1Char(','));
}

} // namespace Echoscope
