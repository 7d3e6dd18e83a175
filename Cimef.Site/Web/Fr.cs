using System.Globalization;

namespace Cimef.Site.Web;

/// <summary>fr-SN display formats: "25 000 FCFA", "25/11/2026 14:05", "1,2 Mo".</summary>
public static class Fr
{
    public static readonly CultureInfo Culture = CreateCulture();
    private static TimeZoneInfo _zone = TimeZoneInfo.Utc;

    public static void UseTimeZone(string id)
    {
        _zone = TimeZoneInfo.TryFindSystemTimeZoneById(id, out var tz) ? tz : TimeZoneInfo.Utc;
    }

    public static string Money(long amount) => amount.ToString("#,0", Culture) + " FCFA";

    public static string Number(long n) => n.ToString("#,0", Culture);

    public static System.DateTime Local(System.DateTime utc) => TimeZoneInfo.ConvertTimeFromUtc(System.DateTime.SpecifyKind(utc, DateTimeKind.Utc), _zone);

    /// <summary>Clinic-local wall time → UTC (for day ranges).</summary>
    public static System.DateTime Utc(System.DateTime local) => TimeZoneInfo.ConvertTimeToUtc(System.DateTime.SpecifyKind(local, DateTimeKind.Unspecified), _zone);

    public static string DateTime(System.DateTime? utc) => utc is null ? "—" : Local(utc.Value).ToString("dd/MM/yyyy HH:mm", Culture);

    public static string Date(System.DateTime? utc) => utc is null ? "—" : Local(utc.Value).ToString("dd/MM/yyyy", Culture);

    public static string Date(DateOnly? d) => d is null ? "—" : d.Value.ToString("dd/MM/yyyy", Culture);

    public static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} o",
        < 1024 * 1024 => (bytes / 1024.0).ToString("0.#", Culture) + " Ko",
        < 1024L * 1024 * 1024 => (bytes / (1024.0 * 1024)).ToString("0.#", Culture) + " Mo",
        _ => (bytes / (1024.0 * 1024 * 1024)).ToString("0.#", Culture) + " Go",
    };

    private static CultureInfo CreateCulture()
    {
        var c = (CultureInfo)CultureInfo.GetCultureInfo("fr-SN").Clone();
        // A plain space as the thousands separator, as the clinic writes amounts: 25 000 FCFA.
        c.NumberFormat.NumberGroupSeparator = " ";
        c.NumberFormat.NumberDecimalSeparator = ",";
        return CultureInfo.ReadOnly(c);
    }
}
