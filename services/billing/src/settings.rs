//! Billing's settings (README, "Configuration"). Stripe is optional as a whole: without its
//! settings Lifeline runs and the billing page says billing is not configured; with only some
//! of them it refuses to start, naming the one that is missing.

use std::net::SocketAddr;
use std::time::Duration;

use lifeline_domain::Plan;
use lifeline_settings::{SettingError, Source};

#[derive(Clone, Debug)]
pub struct BillingSettings {
    /// `LIFELINE_BILLING_ADDR`: the webhook endpoint and the ops endpoints (default
    /// `127.0.0.1:8082`).
    pub addr: SocketAddr,
    pub stripe: Option<StripeSettings>,
    /// `LIFELINE_BILLING_CHECK_SECS`: how often plan changes due at the end of a paid period
    /// are looked for (default 60).
    pub check_every: Duration,
}

#[derive(Clone, Debug)]
pub struct StripeSettings {
    /// `LIFELINE_STRIPE_SECRET_KEY`: the API key (`sk_…`).
    pub secret_key: String,
    /// `LIFELINE_STRIPE_WEBHOOK_SECRET`: the endpoint's signing secret (`whsec_…`).
    pub webhook_secret: String,
    /// `LIFELINE_STRIPE_PRICE_STANDARD` and `LIFELINE_STRIPE_PRICE_PREMIUM`: the price ids.
    pub price_standard: String,
    pub price_premium: String,
    /// `LIFELINE_STRIPE_API_BASE`: where the API is (Stripe's own by default; tests point it at
    /// a local server).
    pub api_base: String,
}

/// The four settings without which there is no Stripe; the API base has a default.
const REQUIRED: [&str; 4] = [
    "LIFELINE_STRIPE_SECRET_KEY",
    "LIFELINE_STRIPE_WEBHOOK_SECRET",
    "LIFELINE_STRIPE_PRICE_STANDARD",
    "LIFELINE_STRIPE_PRICE_PREMIUM",
];

impl BillingSettings {
    pub fn from_source(source: &Source) -> Result<Self, SettingError> {
        let addr = source.parsed(
            "LIFELINE_BILLING_ADDR",
            SocketAddr::from(([127, 0, 0, 1], 8082)),
        )?;
        let values = REQUIRED
            .iter()
            .map(|name| source.optional(name))
            .collect::<Result<Vec<_>, _>>()?;
        let stripe = if values.iter().all(Option::is_none) {
            None
        } else {
            let value = |i: usize| {
                values[i].clone().ok_or_else(|| {
                    SettingError::new(
                        REQUIRED[i],
                        "is not set, while other LIFELINE_STRIPE_* settings are: set all four \
                         (secret key, webhook secret, both price ids) or none",
                    )
                })
            };
            Some(StripeSettings {
                secret_key: value(0)?,
                webhook_secret: value(1)?,
                price_standard: value(2)?,
                price_premium: value(3)?,
                api_base: source.url(
                    "LIFELINE_STRIPE_API_BASE",
                    "https://api.stripe.com/",
                    &["https", "http"],
                )?,
            })
        };
        let check_every =
            Duration::from_secs(source.at_least("LIFELINE_BILLING_CHECK_SECS", 60u64, 1)?);
        Ok(Self {
            addr,
            stripe,
            check_every,
        })
    }
}

impl StripeSettings {
    /// The plan a price is for; `None` for a price Lifeline does not sell.
    pub fn plan_of(&self, price: &str) -> Option<Plan> {
        if price == self.price_standard {
            Some(Plan::Standard)
        } else if price == self.price_premium {
            Some(Plan::Premium)
        } else {
            None
        }
    }

    /// The price to check out for a plan; `None` for plans not sold online.
    pub fn price_of(&self, plan: Plan) -> Option<&str> {
        match plan {
            Plan::Standard => Some(&self.price_standard),
            Plan::Premium => Some(&self.price_premium),
            Plan::Free | Plan::Enterprise => None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn without_stripe_settings_billing_is_off() {
        let s = BillingSettings::from_source(&Source::empty()).unwrap();
        assert_eq!(s.addr, SocketAddr::from(([127, 0, 0, 1], 8082)));
        assert!(s.stripe.is_none());
        assert_eq!(s.check_every, Duration::from_secs(60));
    }

    #[test]
    fn a_partial_stripe_configuration_names_what_is_missing() {
        let source = Source::from_pairs([
            ("LIFELINE_STRIPE_SECRET_KEY", "sk_test_1"),
            ("LIFELINE_STRIPE_WEBHOOK_SECRET", "whsec_1"),
            ("LIFELINE_STRIPE_PRICE_STANDARD", "price_s"),
        ]);
        let e = BillingSettings::from_source(&source).unwrap_err();
        assert!(
            e.to_string().contains("LIFELINE_STRIPE_PRICE_PREMIUM"),
            "{e}"
        );
    }

    #[test]
    fn prices_map_to_plans_both_ways() {
        let source = Source::from_pairs([
            ("LIFELINE_STRIPE_SECRET_KEY", "sk_test_1"),
            ("LIFELINE_STRIPE_WEBHOOK_SECRET", "whsec_1"),
            ("LIFELINE_STRIPE_PRICE_STANDARD", "price_s"),
            ("LIFELINE_STRIPE_PRICE_PREMIUM", "price_p"),
            ("LIFELINE_STRIPE_API_BASE", "http://127.0.0.1:9/"),
        ]);
        let stripe = BillingSettings::from_source(&source)
            .unwrap()
            .stripe
            .unwrap();
        assert_eq!(stripe.api_base, "http://127.0.0.1:9/");
        assert_eq!(stripe.plan_of("price_p"), Some(Plan::Premium));
        assert_eq!(stripe.plan_of("price_other"), None);
        assert_eq!(stripe.price_of(Plan::Standard), Some("price_s"));
        assert_eq!(stripe.price_of(Plan::Enterprise), None);
    }
}
