// Range reads over a data tree, shared by StateMachine::read and SnapshotView::read.
#pragma once

#include <vector>

#include "base/status.h"
#include "kvmodel/read.h"
#include "kvstate/btree.h"
#include "kvstate/types.h"

namespace kvstate {

base::Result<std::vector<std::vector<kvmodel::KvEntry>>> read_ranges(
    const BTree<Entry>& data, const std::vector<kvmodel::ReadRange>& ranges);

}  // namespace kvstate
