// MPI tags between the master (rank 0) and the workers.
#pragma once

namespace burla::runner {

enum tag : int {
  tag_batch = 1,    ///< master -> worker: u64 first, u32 count, encoded inputs
  tag_stop = 2,     ///< master -> worker: skip queued batches and end
  tag_reply = 3,    ///< worker -> master: a batch reply (protocol.hpp)
  tag_fatal = 4,    ///< worker -> master: text of an error that ends the job
  tag_stopped = 5,  ///< worker -> master: acknowledged stop
};

}  // namespace burla::runner
