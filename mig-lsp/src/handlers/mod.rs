//! Request and notification handlers: protocol parameters in, analysis, protocol results out.

pub mod notification;
pub mod request;
