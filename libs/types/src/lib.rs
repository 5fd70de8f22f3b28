//! Domain value types for 一站 (the one-stop approval centre).
//!
//! "Parse, don't validate": every type here can only be built from input that
//! passed its checks, so code holding a [`Uscc`] or an [`IdCardNo`] never
//! needs to check it again. Parsing never fixes input up — lower-case
//! letters, surrounding whitespace and full-width characters are rejected, not
//! corrected — and every rejection is an [`IdentifierError`] with a stable
//! machine `code()` and a zh-CN `message()`, ready to become a field error.
//!
//! String identifiers serialize as plain strings and deserialize through the
//! same parser, so a malformed value in JSON is rejected at the boundary.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod macros;

pub mod certificate_id;
pub mod department_code;
pub mod error;
pub mod id_card_no;
pub mod iso7064;
pub mod material_type;
pub mod money;
pub mod project_code;
pub mod uscc;
pub mod working_days;

pub use certificate_id::CertificateId;
pub use department_code::DepartmentCode;
pub use error::{IdentifierError, IdentifierKind};
pub use id_card_no::IdCardNo;
pub use project_code::ProjectCode;
pub use uscc::Uscc;
pub use working_days::WorkingDays;
