//! Wire contracts shared by the floorctl controller and its simulator: PLC register maps and
//! their process image, the handheld scanner protocol, and the order format.

pub mod image;
pub mod map;
pub mod order;
pub mod packml;
pub mod scanner;
pub mod value;
