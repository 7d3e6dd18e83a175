using PhoneNumbers;

namespace Cimef.Site.FrontDesk;

/// <summary>
/// Phone numbers through Google's libphonenumber (metadata per country, kept up to date by the package):
/// "77 123 45 67" → "+221771234567" (Senegal by default), E.164 in the database, international form on screen.
/// A number that is not assigned in its country's plan (wrong prefix, wrong length) is refused, and a fixed line
/// is told apart from a mobile, since only a mobile receives the SMS with the patient's access.
/// </summary>
public static class Phones
{
    public const string Invalid = "Numéro de téléphone invalide (exemple : 77 123 45 67 ou +221 77 123 45 67).";
    public const string NoSms = "Ce numéro est une ligne fixe : les SMS ne l'atteindront pas (les identifiants restent sur la facture et par e-mail).";

    private const string DefaultRegion = "SN";
    private static readonly PhoneNumberUtil Util = PhoneNumberUtil.GetInstance();

    /// <summary>Returns the E.164 form, or null when the input is not a valid number of its country's plan.</summary>
    public static string? Normalize(string? input)
    {
        if (string.IsNullOrWhiteSpace(input) || input.Length > 40) return null;
        var parsed = Parse(input.Trim());
        return parsed is not null && Util.IsValidNumber(parsed) ? Util.Format(parsed, PhoneNumberFormat.E164) : null;
    }

    /// <summary>
    /// False only for a number its country's plan names a fixed line (an SMS to it is lost without an error);
    /// mobiles, plans that do not tell them apart, and numbers stored before this check was added stay reachable.
    /// </summary>
    public static bool CanReceiveSms(string phone) =>
        !(Parse(phone) is { } n && Util.IsValidNumber(n) && Util.GetNumberType(n) == PhoneNumberType.FIXED_LINE);

    /// <summary>"+221771234567" → "+221 77 123 45 67" for display; anything unparsable unchanged.</summary>
    public static string Display(string phone) =>
        Parse(phone) is { } n && Util.IsValidNumber(n) ? Util.Format(n, PhoneNumberFormat.INTERNATIONAL) : phone;

    private static PhoneNumber? Parse(string input)
    {
        try { return Util.Parse(input, DefaultRegion); }
        catch (NumberParseException) { return null; }
    }
}
