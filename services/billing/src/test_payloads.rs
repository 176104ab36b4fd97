//! Webhook bodies as Stripe sends them, with every field the webhook crate requires: for this
//! crate's tests and for the end-to-end tests that sign and post them.

/// A subscription object for customer `cus_1` (`sub_1`, one item at `price`, paid until
/// `period_end`).
pub fn subscription(status: &str, price: &str, cancel_at_period_end: bool) -> String {
    subscription_until(status, price, cancel_at_period_end, 1_702_592_000)
}

pub fn subscription_until(
    status: &str,
    price: &str,
    cancel_at_period_end: bool,
    period_end: i64,
) -> String {
    format!(
        r#"{{"id":"sub_1","object":"subscription","automatic_tax":{{"enabled":false}},"billing_cycle_anchor":1700000000,"billing_mode":{{"type":"flexible"}},"billing_schedules":[],"cancel_at_period_end":{cancel_at_period_end},"collection_method":"charge_automatically","created":1700000000,"currency":"usd","customer":"cus_1","discounts":[],"invoice_settings":{{"issuer":{{"type":"self"}}}},"items":{{"object":"list","data":[{{"id":"si_1","object":"subscription_item","created":1700000000,"current_period_end":{period_end},"current_period_start":1700000000,"discounts":[],"metadata":{{}},"plan":{{"id":"{price}","object":"plan","active":true,"billing_scheme":"per_unit","created":1690000000,"currency":"usd","interval":"month","interval_count":1,"livemode":false,"usage_type":"licensed"}},"price":{{"id":"{price}","object":"price","active":true,"billing_scheme":"per_unit","created":1690000000,"currency":"usd","livemode":false,"metadata":{{}},"product":"prod_1","type":"recurring"}},"quantity":1,"subscription":"sub_1"}}],"has_more":false,"url":"/v1/subscription_items?subscription=sub_1"}},"livemode":false,"metadata":{{}},"start_date":1700000000,"status":"{status}"}}"#
    )
}

/// A completed checkout for `team`, by customer `cus_1`, subscription `sub_1`.
pub fn checkout(team: &str) -> String {
    format!(
        r#"{{"id":"cs_test_1","object":"checkout.session","automatic_tax":{{"enabled":false}},"created":1700000000,"custom_fields":[],"custom_text":{{}},"expires_at":1700086400,"livemode":false,"mode":"subscription","payment_method_types":["card"],"payment_status":"paid","shipping_options":[],"client_reference_id":"{team}","customer":"cus_1","subscription":"sub_1","url":null,"status":"complete"}}"#
    )
}

/// An invoice of customer `cus_1`.
pub fn invoice() -> String {
    r#"{"id":"in_1","object":"invoice","amount_due":1000,"amount_overpaid":0,"amount_paid":1000,"amount_remaining":0,"amount_shipping":0,"attempt_count":1,"attempted":true,"automatic_tax":{"enabled":false},"collection_method":"charge_automatically","created":1700000000,"currency":"usd","customer":"cus_1","default_tax_rates":[],"discounts":[],"issuer":{"type":"self"},"lines":{"object":"list","data":[],"has_more":false,"url":"/v1/invoices/in_1/lines"},"livemode":false,"parent":{"type":"subscription_details","subscription_details":{"subscription":"sub_1"}},"payment_settings":{},"period_end":1700000000,"period_start":1700000000,"post_payment_credit_notes_amount":0,"pre_payment_credit_notes_amount":0,"starting_balance":0,"status":"paid","status_transitions":{},"subtotal":1000,"total":1000}"#.to_owned()
}

/// The event envelope around `object`.
pub fn event(id: &str, kind: &str, created: i64, object: &str) -> String {
    format!(
        r#"{{"id":"{id}","object":"event","api_version":"2026-09-30.endive","created":{created},"livemode":false,"pending_webhooks":1,"request":{{"id":null,"idempotency_key":null}},"type":"{kind}","data":{{"object":{object}}}}}"#
    )
}
