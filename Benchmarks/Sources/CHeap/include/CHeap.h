#include <stddef.h>

/// Bytes glibc's allocator has handed out and not taken back (mallinfo2's uordblks); 0 where
/// there is no mallinfo2.
size_t cheap_heap_in_use(void);
