//! A test Quay: the sign-in, OAuth token and token-lifecycle endpoints of Quay, faithful to
//! `docs/quay-protocol.md` and the captured transcripts, with TLS and fault injection.

mod config;
mod emulator;
mod faults;
mod http;
mod info;
mod inspect;
mod model;
mod pagetoken;
mod pyfmt;
mod reply;
mod request;
mod router;
mod schema;
mod scopes;
pub mod seed;
mod server;
mod session;
mod time;
mod tls;
mod views;

pub use config::Config;
pub use emulator::Emulator;
pub use faults::{FaultAnswer, FaultRule, Faults};
pub use info::{AppInfo, AppUpdate, AssignmentInfo, TokenInfo};
pub(crate) use info::{app_info, assignment_info, token_info};
