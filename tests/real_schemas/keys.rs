//! See tests/real_schemas.rs.
