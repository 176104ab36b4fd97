//! Billing: plans through Stripe. Checkout sessions for upgrades, the customer portal, the
//! signed webhook whose events change plans (through `lifeline_store::billing`, the one place
//! plans change), and the plan changes due at the end of paid periods. The only crate that
//! depends on `async-stripe`.

pub mod apply;
pub mod events;
pub mod settings;
pub mod test_payloads;

pub use settings::{BillingSettings, StripeSettings};
