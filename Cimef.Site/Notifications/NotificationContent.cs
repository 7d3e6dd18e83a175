using Cimef.Site.Data.Entities;

namespace Cimef.Site.Notifications;

/// <summary>
/// What a notification says, assembled at send time (the password is decrypted only then), in the patient's language
/// (<c>Patient.Language</c>: fr, wo, en). It never names the exam or the result: a phone shared by a family shows only
/// that a result exists.
/// </summary>
public sealed record NotificationContent(OutboxKind Kind, string PatientName, string PortalUrl, string AccessKey, string Password, string? Language = null)
{
    /// <summary>The catalogue's culture for this patient's messages.</summary>
    public System.Globalization.CultureInfo Culture => Languages.PatientLanguages.Culture(Language);

    /// <summary>A catalogue entry in the patient's language, {0}… filled in.</summary>
    public string Text(string name, params object?[] args) => Languages.PatientText.Format(Culture, name, args);

    /// <summary>"ABCD EFGH JKMN": the key grouped by 4 for reading aloud or copying.</summary>
    public string GroupedKey => AccessKey.Length == 12 ? $"{AccessKey[..4]} {AccessKey[4..8]} {AccessKey[8..]}" : AccessKey;

    /// <summary>Strings that must never appear in an error message or a log line.</summary>
    public string[] Secrets => [AccessKey, GroupedKey, Access.CredentialGenerator.FormatKey(AccessKey), Password];
}

/// <summary>Thrown by a sender with a message safe to store (no credentials); permanent errors are not retried.</summary>
public sealed class DeliveryException(string safeMessage, bool permanent, Exception? inner = null) : Exception(safeMessage, inner)
{
    public bool Permanent { get; } = permanent;
}
