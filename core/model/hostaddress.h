#pragma once

#include <QHostAddress>

namespace Echoscope {

// A null QHostAddress that costs no allocation to copy. QHostAddress() allocates its private
// data every time (Qt 6), and a short connection made ten of them to hold an event's, a
// client's or a view's address until the real one was assigned: 10 of its 22 allocations. A
// copy of this one shares its data (and detaches, like any copy, when it is changed), so a
// member initialised from it allocates nothing until it holds an address of its own.
inline const QHostAddress &nullHostAddress()
{
    static const QHostAddress null;
    return null;
}

} // namespace Echoscope
