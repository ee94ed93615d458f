//! The ptrec recorder: a ptrace engine that follows a whole process tree and
//! writes every stop into a ptrec trace (see the `ptrec-format` crate).
