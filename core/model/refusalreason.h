#pragma once

#include <QList>
#include <QMetaType>
#include <QString>

namespace Echoscope {

// Why a connection (or a UDP datagram of a new peer) was refused: an enum from where it is
// decided to where it is shown, turned into words only at the edge (the log sentence
// carries the details; metrics use label()).
enum class RefusalReason {
    MaxClients,       // --max-clients (TCP) or --max-udp-peers (UDP) reached
    Denied,           // in a --deny network
    NotAllowed,       // in none of the --allow networks
    UnknownPeer,      // the peer's address could not be read to check it
    OutOfDescriptors, // the process had no descriptor left for it
};

// Refusals of one kind counted for a per-second summary (keyed by its sentence).
struct RefusalTally
{
    RefusalReason kind = RefusalReason::MaxClients;
    qint64 count = 0;

    void add(RefusalReason reason)
    {
        kind = reason;
        ++count;
    }
};

namespace Refusal {
// The metric label: "max_clients", "denied", "not_allowed", "unknown_peer",
// "out_of_descriptors".
QString label(RefusalReason reason);
// Every reason, in declaration order.
QList<RefusalReason> all();
} // namespace Refusal

} // namespace Echoscope

Q_DECLARE_METATYPE(Echoscope::RefusalReason)
