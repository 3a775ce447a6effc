//! The process's glibc malloc, set up for what a scan allocates: decoded pictures of many
//! megabytes ([`tune_malloc`]) and the churn of loading lists ([`release_free_pages`]).
//!
//! Owns every call into the allocator. Must not allocate or hold memory itself; with another
//! allocator (or not on glibc) both functions do nothing.

/// Sets glibc's malloc up for a scan's pictures; other allocators are left alone. A program
/// calls it first thing, before it starts a thread; the `mediascreen` binary does, a program
/// using the library keeps its own settings unless it calls this too.
///
/// - One heap (`M_ARENA_MAX`): glibc gives each thread that allocates its own heap (up to
///   eight a core), and memory freed into one heap serves only that heap's threads; with the
///   decode workers, the walk and the bucket runtime's threads each freeing pictures of many
///   megabytes, the process kept far more than it used. The workers allocate a few large
///   buffers a picture, so one shared heap costs them no measurable lock time.
/// - Buffers under 32 MiB from that heap (`M_MMAP_THRESHOLD`, the most glibc's own sliding
///   threshold reaches), kept there until 256 MiB lie free at its top (`M_TRIM_THRESHOLD`).
///   glibc's defaults shrink the heap whenever twice the last large buffer freed lies free,
///   and two workers freeing pictures in turn did that picture after picture: the memory was
///   handed back and faulted in again, page by page, for the next picture (five times the
///   page faults of holding it; docs/memory.md). The peak is no higher; what a scan held at
///   its peak may stay resident until it ends.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn tune_malloc() {
    const MMAP_THRESHOLD: libc::c_int = 32 << 20;
    const TRIM_THRESHOLD: libc::c_int = 256 << 20;
    // SAFETY: mallopt only sets allocator parameters, under glibc's own lock.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
    }
}

/// Sets glibc's malloc up for a scan's pictures: nothing to set with other allocators.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn tune_malloc() {}

/// Hands the heap's free pages back to the system. Loading a list frees as much as it keeps,
/// in between what it keeps: a native list's keypoint signatures are parsed and checked, and
/// then decoded once more by the matcher, their bytes let go between the decoded ones. glibc
/// keeps such pages resident, as freed memory below the heap's top, until asked; asked, it
/// returns every free whole page (`malloc_trim`), which took a loaded 10,000-signature list
/// from 41 KB to 25 KB a signature (docs/memory.md).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn release_free_pages() {
    // SAFETY: malloc_trim only releases free memory, under glibc's own lock.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Hands the heap's free pages back to the system: nothing to do with other allocators.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_free_pages() {}
