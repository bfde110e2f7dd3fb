public import Foundation

/// Where the repository's top-level `Fixtures/` folder is.
///
/// The one helper tests and tools use to find fixtures: it is derived from this source file's
/// path at build time, so it works from any working directory as long as the checkout that was
/// built is still there.
public enum Fixtures {
    /// The `Fixtures/` folder of the checkout this module was built from.
    public static var directory: URL {
        URL(fileURLWithPath: #filePath)  // …/Sources/DemoData/Fixtures.swift
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures")
    }

    /// The committed demo data set, `Fixtures/demo/`.
    public static var demo: URL { directory.appendingPathComponent("demo") }
}
