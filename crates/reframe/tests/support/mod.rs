pub mod truth;
