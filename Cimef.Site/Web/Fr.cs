using System.Globalization;

namespace Cimef.Site.Web;

/// <summary>fr-SN display formats: "25 000 FCFA", "25/11/2026", "1,2 Mo". Instants are shown in clinic time by <see cref="ClinicClock"/>.</summary>
public static class Fr
{
    public static readonly CultureInfo Culture = CreateCulture();

    public static string Money(long amount) => amount.ToString("#,0", Culture) + " FCFA";

    public static string Number(long n) => n.ToString("#,0", Culture);

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
