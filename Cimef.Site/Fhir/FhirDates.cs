using System.Globalization;
using System.Text.RegularExpressions;

namespace Cimef.Site.Fhir;

/// <summary>
/// A FHIR date search value (prefix eq, ge, le, gt, lt; eq when none) with day precision (YYYY-MM-DD, UTC, the clinic's
/// zone being UTC+0) or date-time precision (at most microseconds, what both databases store), as a half-open interval
/// [From, Before) on the report's date. Years outside <see cref="FirstYear"/>..<see cref="LastYear"/> (the range of
/// every date a user types, <see cref="Web.UserDates"/>) are refused: no
/// report is dated there, and the interval's ends stay far from DateTime's limits.
/// </summary>
public static partial class FhirDates
{
    public const int FirstYear = Web.UserDates.FirstYear;
    public const int LastYear = Web.UserDates.LastYear;

    public sealed record Range(DateTime? From, DateTime? Before);

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?$", RegexOptions.CultureInvariant)]
    private static partial Regex DateTimePattern();

    public static Range? Parse(string? value)
    {
        var text = value ?? "";
        var prefix = text.Length >= 2 && char.IsAsciiLetter(text[0]) ? text[..2] : "eq";
        if (prefix != "eq" || text.StartsWith("eq", StringComparison.Ordinal)) text = text[Math.Min(2, text.Length)..];
        DateTime start, end;
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            if (day.Year is < FirstYear or > LastYear) return null;
            start = day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
            end = start.AddDays(1);
        }
        else if (DateTimePattern().IsMatch(text) && int.Parse(text.AsSpan(0, 4), CultureInfo.InvariantCulture) is >= FirstYear and <= LastYear
                 && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            start = at.UtcDateTime;
            end = start.AddTicks(TimeSpan.TicksPerMicrosecond);
        }
        else return null;
        return prefix switch
        {
            "eq" => new Range(start, end),
            "ge" => new Range(start, null),
            "gt" => new Range(end, null),
            "le" => new Range(null, end),
            "lt" => new Range(null, start),
            _ => null,
        };
    }
}
