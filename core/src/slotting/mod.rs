//! Pre-positioning fast movers: velocity from order history, the forward area chosen and sized
//! by the fluid model, and the comparisons the planners are judged by.

pub mod fluid;
pub mod peak;
pub mod velocity;
