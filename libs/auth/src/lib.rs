//! JWT bearer authentication for the yizhan services.
//!
//! One [`Authenticator`] per deployment verifies tokens either with the
//! development HS256 secret (which the stack generates, see
//! [`load_or_create_dev_secret`], and the `token` CLI mints with
//! [`mint_hs256`]) or with an OIDC provider's public keys from a JWKS URL
//! (RS256/ES256 and kin). `iss`, `aud` and `exp` are always checked.
//!
//! Handlers take a [`Principal`] (or [`OptionalPrincipal`]) argument; the
//! request is refused with a 401 problem before the handler runs when the
//! token is missing or bad. Authorisation is then the handler's: roles via
//! [`Principal::require_any`], enterprise scoping via
//! [`Principal::may_act_for`], department via `dept`, partner scopes via
//! [`Principal::has_scope`].
//!
//! ```
//! use actix_web::{App, web};
//! use yizhan_auth::{AuthConfig, AuthMode, Authenticator, Principal, Role};
//! use yizhan_kit::Problem;
//!
//! async fn me(who: Principal) -> Result<web::Json<Principal>, Problem> {
//!     who.require_any(&[Role::WindowClerk, Role::Admin])?;
//!     Ok(web::Json(who))
//! }
//!
//! let realm = "https://idp.example/realms/yizhan";
//! let auth = Authenticator::new(AuthConfig::new(
//!     realm,
//!     "yizhan",
//!     AuthMode::Jwks { url: format!("{realm}/protocol/openid-connect/certs") },
//! ));
//! let app = App::new()
//!     .app_data(web::Data::new(auth))
//!     .route("/me", web::get().to(me));
//! # drop(app);
//! ```

mod authenticator;
mod claims;
mod config;
mod dev_secret;
mod error;
mod extract;
pub mod jwks;
mod role;
pub mod routes;

pub use authenticator::Authenticator;
pub use claims::{Audience, Claims, Principal, SCOPE_QUEUES_READ, TokenRequest, mint_hs256};
pub use config::{AuthConfig, AuthMode, DEFAULT_LEEWAY_SECS};
pub use dev_secret::{DEV_SECRET_LEN, load_or_create_dev_secret};
pub use error::AuthError;
pub use extract::{OptionalPrincipal, authorization, bearer_token};
pub use role::Role;
