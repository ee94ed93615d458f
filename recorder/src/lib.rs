//! The ptrec recorder: a ptrace engine that follows a whole process tree and
//! writes every stop into a ptrec trace (see the `ptrec-format` crate).
pub mod arch;
pub mod attach;
pub mod capture;
pub mod cpuload;
pub mod describe;
pub mod detach;
pub mod engine;
pub mod filter;
pub mod idle;
pub mod launch;
pub mod memory;
pub mod output;
pub mod signals;
pub mod sink;
pub mod stop;
pub mod tracee;
