//! The enterprise service's pages (企业服务): 一企一档, 诉求, 免申即享 and
//! 好差评. [`own`] is what enterprises, their agents and 营商专员 see;
//! [`staff`] is the departments' and admins' side. Like every page they
//! hold no rules: they call the enterprise service's REST API with the
//! viewer's token and show what it answers.

pub mod own;
pub mod staff;

use actix_web::web;

/// The templates of these pages (added to the portal's environment).
pub const TEMPLATES: &[(&str, &str)] = &[];

/// The flash messages these pages' redirects may carry (see
/// [`super::see_other`]).
pub const MESSAGES: &[&str] = &[];

/// Registers these pages.
pub fn configure(c: &mut web::ServiceConfig) {
    c.configure(own::configure).configure(staff::configure);
}
