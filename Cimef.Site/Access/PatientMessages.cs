namespace Cimef.Site.Access;

/// <summary>The spec's PATIENT_MESSAGES: every message a patient sees, in one French catalogue.</summary>
public static class PatientMessages
{
    public const string LoginSuccess = "Connexion réussie. Bienvenue sur votre espace résultats.";
    public const string InvalidCredentials = "Clé d'accès ou mot de passe incorrect";
    public const string AccessDisabledText = "Votre accès a été désactivé. Contactez le cabinet.";
    public const string NoReports = "Aucun résultat disponible pour le moment";
    public const string DownloadSuccess = "Téléchargement en cours. Conservez ce fichier en lieu sûr.";
    public const string NoHistory = "Aucune activité sur votre accès ces 12 derniers mois.";
    public const string PermanentAccess = "Accès permanent";
    public const string ReportGone = "Ce rapport n'est plus accessible";
    public const string FileUnavailable = "Fichier temporairement indisponible";
    public const string ReportNotFound = "Rapport introuvable";
    public const string SessionRequired = "Votre session a expiré. Reconnectez-vous avec votre clé d'accès.";
    public const string LoggedOut = "Vous êtes déconnecté.";
    public const string KeyRequired = "Saisissez votre clé d'accès.";
    public const string PasswordRequired = "Saisissez votre mot de passe.";
    public const string FieldTooLong = "Ce champ est trop long.";
    public const string BadRequest = "Requête invalide : envoyez un objet JSON {\"access_key\", \"password\"}.";
    public const string JsonRequired = "Le type de contenu doit être application/json.";

    /// <summary>Deactivated access, with the clinic's phone so the patient knows whom to call.</summary>
    public static string AccessDisabled(string clinicPhone) => $"{AccessDisabledText} Téléphone : {clinicPhone}";

    /// <summary>Throttled login: when to try again, in words a patient reads on a phone.</summary>
    public static string Throttled(int retryAfterSeconds)
    {
        var minutes = (int)Math.Ceiling(Math.Max(1, retryAfterSeconds) / 60.0);
        return minutes <= 1
            ? "Trop de tentatives. Réessayez dans 1 minute."
            : $"Trop de tentatives. Réessayez dans {minutes} minutes.";
    }
}
