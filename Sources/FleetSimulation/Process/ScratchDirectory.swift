public import Foundation

/// The scratch directories of simulated phones.
public enum ScratchDirectory {
    /// Removes `directory` once the phones' databases in it have closed: each closes on its own
    /// executor as it is released, and may still write its last checkpoint, so removal is tried
    /// again until the directory stays gone (for up to five seconds).
    public static func remove(_ directory: URL) async {
        for _ in 0..<100 {
            try? FileManager.default.removeItem(at: directory)
            guard FileManager.default.fileExists(atPath: directory.path) else { return }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }
}
