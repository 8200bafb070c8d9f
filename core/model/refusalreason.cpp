#include "refusalreason.h"

namespace Echoscope {

QString Refusal::label(RefusalReason reason)
{
    switch (reason) {
    case RefusalReason::MaxClients:
        return QStringLiteral("max_clients");
    case RefusalReason::Denied:
        return QStringLiteral("denied");
    case RefusalReason::NotAllowed:
        return QStringLiteral("not_allowed");
    case RefusalReason::UnknownPeer:
        return QStringLiteral("unknown_peer");
    case RefusalReason::OutOfDescriptors:
        return QStringLiteral("out_of_descriptors");
    }
    return QStringLiteral("other");
}

QList<RefusalReason> Refusal::all()
{
    return {RefusalReason::MaxClients, RefusalReason::Denied, RefusalReason::NotAllowed,
            RefusalReason::UnknownPeer, RefusalReason::OutOfDescriptors};
}

} // namespace Echoscope
