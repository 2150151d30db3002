//! Wire contracts shared by the floorctl controller and its simulator: PLC register maps and
//! their process image, the handheld scanner protocol, the order format, and the pick area's
//! geometry with its routing (directions follow it; virtual pickers walk it).

pub mod id;
pub mod image;
pub mod map;
pub mod order;
pub mod packml;
pub mod refusal;
pub mod routing;
pub mod scanner;
pub mod text;
pub mod value;
