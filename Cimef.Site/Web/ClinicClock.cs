namespace Cimef.Site.Web;

/// <summary>
/// The clinic's wall clock: its zone (Clinic:TimeZone, UTC when unknown) over the injected TimeProvider. The site and
/// the CLI resolve the same one, so they agree on today, the invoice-number year, cash-desk and statistics days.
/// Times are stored in UTC; this is where they become clinic time and back.
/// </summary>
public sealed class ClinicClock(TimeProvider time, ClinicOptions clinic)
{
    public TimeZoneInfo Zone { get; } = TimeZoneInfo.TryFindSystemTimeZoneById(clinic.TimeZone, out var tz) ? tz : TimeZoneInfo.Utc;

    public System.DateTime Now => ToLocal(time.GetUtcNow().UtcDateTime);

    public DateOnly Today => DayOf(time.GetUtcNow().UtcDateTime);

    public DateOnly DayOf(System.DateTime utc) => DateOnly.FromDateTime(ToLocal(utc));

    public System.DateTime ToLocal(System.DateTime utc) => TimeZoneInfo.ConvertTimeFromUtc(System.DateTime.SpecifyKind(utc, DateTimeKind.Utc), Zone);

    public System.DateTime ToUtc(System.DateTime local) => TimeZoneInfo.ConvertTimeToUtc(System.DateTime.SpecifyKind(local, DateTimeKind.Unspecified), Zone);

    /// <summary>The UTC instant a clinic day begins, for [day, next day) ranges on UTC columns.</summary>
    public System.DateTime DayStartUtc(DateOnly day)
    {
        var midnight = day.ToDateTime(TimeOnly.MinValue);
        // Where a DST jump skips midnight, the day begins at the first minute that exists.
        while (Zone.IsInvalidTime(midnight)) midnight = midnight.AddMinutes(30);
        return ToUtc(midnight);
    }

    public string DateTime(System.DateTime? utc) => utc is null ? "—" : ToLocal(utc.Value).ToString("dd/MM/yyyy HH:mm", Fr.Culture);

    public string Date(System.DateTime? utc) => utc is null ? "—" : Fr.Date(DayOf(utc.Value));
}
