using System.Globalization;

namespace Cimef.Site.Fhir;

/// <summary>
/// A FHIR date search value (prefix eq, ge, le, gt, lt; eq when none) with day precision (YYYY-MM-DD, UTC, the clinic's
/// zone being UTC+0) or full date-time precision, as a half-open interval [From, Before) on the report's date.
/// </summary>
public static class FhirDates
{
    /// <summary>OutOfRange: a well-formed date outside <see cref="Web.UserDates"/>' range (refused with its message).</summary>
    public sealed record Range(DateTime? From, DateTime? Before, bool OutOfRange = false);

    private static readonly Range OutOfRange = new(null, null, true);

    public static Range? Parse(string? value)
    {
        var text = value ?? "";
        var prefix = text.Length >= 2 && char.IsAsciiLetter(text[0]) ? text[..2] : "eq";
        if (prefix != "eq" || text.StartsWith("eq", StringComparison.Ordinal)) text = text[Math.Min(2, text.Length)..];
        DateTime start, end;
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            if (!Web.UserDates.InRange(day)) return OutOfRange;
            start = day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
            end = start.AddDays(1);
        }
        else if (text.Contains('T') && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            if (!Web.UserDates.InRange(at.UtcDateTime)) return OutOfRange;
            start = at.UtcDateTime;
            end = start.AddTicks(1);
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
