//! Every route of the web service, declared once. [`Routes`] registers each one with actix and
//! also records it, so `routes::table()` lists exactly what the server serves: the isolation test
//! walks that list, and a new route is covered without editing the test.

use actix_web::http::Method;
use actix_web::{FromRequest, Handler, Responder, web};

use crate::{accounts, api, api_keys, billing, channels, heartbeats, statics, teams};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteInfo {
    pub method: Method,
    pub path: &'static str,
}

pub struct Routes<'a> {
    cfg: Option<&'a mut web::ServiceConfig>,
    table: Vec<RouteInfo>,
}

impl Routes<'_> {
    pub fn get<F, Args>(&mut self, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(Method::GET, path, handler)
    }

    pub fn post<F, Args>(&mut self, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(Method::POST, path, handler)
    }

    pub fn patch<F, Args>(&mut self, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(Method::PATCH, path, handler)
    }

    pub fn delete<F, Args>(&mut self, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(Method::DELETE, path, handler)
    }

    fn add<F, Args>(&mut self, method: Method, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.table.push(RouteInfo {
            method: method.clone(),
            path,
        });
        if let Some(cfg) = self.cfg.as_deref_mut() {
            cfg.route(path, web::method(method).to(handler));
        }
        self
    }
}

/// Registers every page, form target and API route.
fn declare(r: &mut Routes<'_>) {
    statics::routes(r);
    accounts::routes(r);
    teams::routes(r);
    billing::routes(r);
    heartbeats::routes(r);
    channels::routes(r);
    api_keys::routes(r);
    api::routes(r);
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    let mut routes = Routes {
        cfg: Some(cfg),
        table: Vec::new(),
    };
    declare(&mut routes);
}

/// Every route the server serves, in registration order.
pub fn table() -> Vec<RouteInfo> {
    let mut routes = Routes {
        cfg: None,
        table: Vec::new(),
    };
    declare(&mut routes);
    routes.table
}
