using Cimef.Site.Languages;
using Cimef.Site.Web;

namespace Cimef.Site.Portal;

/// <summary>
/// The spec's PATIENT_MESSAGES: every message a patient sees, read from the patient catalogue in the request's language
/// (<see cref="PatientText"/>; French by default). Properties, so validation attributes can name them
/// (<c>ErrorMessageResourceType = typeof(PatientMessages)</c>).
/// </summary>
public static class PatientMessages
{
    public static string LoginSuccess => PatientText.Get("login_success");
    public static string InvalidCredentials => PatientText.Get("invalid_credentials");
    public static string AccessDisabledText => PatientText.Get("access_disabled");
    public static string NoReports => PatientText.Get("no_reports");
    public static string DownloadSuccess => PatientText.Get("download_success");
    public static string NoHistory => PatientText.Get("no_history");
    public static string PermanentAccess => PatientText.Get("permanent_access");
    public static string ReportGone => PatientText.Get("report_gone");
    public static string FileUnavailable => PatientText.Get("file_unavailable");
    public static string ReportNotFound => PatientText.Get("report_not_found");
    public static string SessionRequired => PatientText.Get("session_required");
    public static string LoggedOut => PatientText.Get("logged_out");
    public static string KeyRequired => PatientText.Get("key_required");
    public static string PasswordRequired => PatientText.Get("password_required");
    public static string FieldTooLong => PatientText.Get("field_too_long");
    public const string BadRequest = "Requête invalide : envoyez un objet JSON {\"access_key\", \"password\"}.";

    /// <summary>Deactivated access, with the clinic's phone so the patient knows whom to call.</summary>
    public static string AccessDisabled(string clinicPhone) => PatientText.Format("access_disabled_phone", AccessDisabledText, clinicPhone);

    /// <summary>Throttled login: when to try again, in words a patient reads on a phone.</summary>
    public static string Throttled(int retryAfterSeconds)
    {
        var minutes = (int)Math.Ceiling(Math.Max(1, retryAfterSeconds) / 60.0);
        return minutes <= 1 ? PatientText.Get("throttled_one") : PatientText.Format("throttled_many", Fr.Number(minutes));
    }
}
