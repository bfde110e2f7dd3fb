import Foundation

extension Calendar {
    /// The moment this calendar's clock shows `minute` minutes after midnight (570 is 09:30) on
    /// the day that starts at `midnight`: a time on the local clock, not midnight plus so many
    /// minutes, which differ by an hour on the days the clocks change. A time the change skips
    /// becomes the next that exists; a time it repeats, the first of the two. Working hours and
    /// recurring visits are both given this way.
    func clockTime(_ minute: Int, on midnight: Date) -> Date? {
        date(bySettingHour: minute / 60, minute: minute % 60, second: 0, of: midnight)
    }
}
