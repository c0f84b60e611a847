//! Unit tests of `plot`.

use super::*;

#[test]
fn bundled_fonts_parse_and_register() {
    init_fonts();
    init_fonts();
    assert!(plotters::style::register_font(FONT, FontStyle::Normal, FONT_DATA).is_ok());
}

#[test]
fn format_follows_the_extension() {
    assert_eq!(Format::of(Path::new("a/b.PNG")).unwrap(), Format::Png);
    assert_eq!(Format::of(Path::new("b.svg")).unwrap(), Format::Svg);
    let e = Format::of(Path::new("b.pdf")).unwrap_err().to_string();
    assert!(e.contains(".png or .svg"), "{e}");
    assert!(Format::of(Path::new("noext")).is_err());
}
