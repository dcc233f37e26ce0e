#!/usr/bin/env python3
"""Self-test for check-import-cycles.py: python3 scripts/test_check_import_cycles.py"""
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "check-import-cycles.py")


def run_on(tree):
    """Write {relative path: source} under a temp dir, check it from lib.rs."""
    with tempfile.TemporaryDirectory() as tmp:
        for rel, src in tree.items():
            path = os.path.join(tmp, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(textwrap.dedent(src))
        done = subprocess.run([sys.executable, SCRIPT, "--root", os.path.join(tmp, "lib.rs")],
                              capture_output=True, text=True)
        return done.returncode, done.stdout.replace(tmp + os.sep, "")


class CheckImportCycles(unittest.TestCase):
    def test_sibling_circle_via_nested_use_and_body_path(self):
        code, out = run_on({
            "lib.rs": "pub mod a;\npub mod b;\n",
            "a.rs": """
                use crate::{
                    b::{self, Thing},
                };
                pub fn g() {}
            """,
            "b.rs": "pub struct Thing;\npub fn f() { crate::a::g(); }\n",
        })
        self.assertEqual(code, 1, out)
        self.assertIn("import circle: crate::a -> crate::b -> crate::a", out)
        self.assertIn("crate::b -> crate::a: b.rs:2: pub fn f() { crate::a::g(); }", out)
        self.assertIn("a.rs:3:", out)  # the line naming `b`, inside the multi-line use

    def test_parent_and_child_using_each_other_is_a_circle(self):
        code, out = run_on({
            "lib.rs": "pub mod p;\n",
            "p/mod.rs": "mod child;\npub use child::helper;\npub fn shared() {}\n",
            "p/child.rs": "pub fn helper() { super::shared() }\n",
        })
        self.assertEqual(code, 1, out)
        self.assertIn("import circle: crate::p -> crate::p::child -> crate::p", out)

    def test_no_circle_despite_comments_strings_and_tests(self):
        code, out = run_on({
            # `std::a::x` and `::a::x` (extern crate `a`) are not our module `a`.
            "lib.rs": "pub mod a;\npub(crate) mod b;\npub fn z() { std::a::x(); ::a::x(); }\n",
            "a.rs": "use crate::b::Thing;\npub fn g() { crate::z() }\n",
            "b.rs": r'''
                //! Module docs mentioning crate::a::g.
                /// Calls crate::a::g, in a doc comment only.
                /* outer /* nested crate::a::g */ still comment crate::a::g */
                pub struct Thing;
                pub fn f<'x>(s: &'x str) -> (char, &'static str, &'x str) {
                    ('"', "crate::a::g()", r#"crate::a::g "quoted""#)
                }
                pub fn h() -> char { '\'' }
                #[cfg(test)]
                #[allow(unused)]
                mod tests {
                    use crate::a::g;
                    fn t() { if true { super::super::a::g(); } }
                }
                #[cfg(test)]
                mod more;
            ''',
            "b/more.rs": "use crate::a::g;\n",  # test-only: never loaded
        })
        self.assertEqual(code, 0, out)
        self.assertEqual(out.strip(), "no import circles among 3 modules")


if __name__ == "__main__":
    unittest.main()
