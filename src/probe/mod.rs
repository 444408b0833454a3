//! Active probes: opt-in (`dockdoc check --probe NAME`), and the only code in dockdoc that
//! creates anything. Each says what it will create before it starts and removes it afterwards.

pub mod network;
