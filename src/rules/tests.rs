//! Unit tests of rule generation.
