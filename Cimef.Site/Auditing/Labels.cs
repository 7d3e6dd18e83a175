using Cimef.Site.Languages;
using Cimef.Site.Data.Entities;

namespace Cimef.Site.Auditing;

/// <summary>The French names of stored vocabularies (access-event kinds, alert kinds and levels, invoice statuses), for pages and PDFs.</summary>
public static class Labels
{
    public static string Event(string kind) => kind switch
    {
        AccessEventKinds.LoginSuccess => "Connexion",
        AccessEventKinds.LoginFailure => "Échec de connexion",
        AccessEventKinds.LoginDisabled => "Connexion refusée (accès désactivé)",
        AccessEventKinds.LoginThrottled => "Connexion bloquée (trop d'essais)",
        AccessEventKinds.Logout => "Déconnexion",
        AccessEventKinds.ReportList => "Consultation des rapports",
        AccessEventKinds.Download => "Téléchargement",
        AccessEventKinds.DownloadPart => "Téléchargement (suite, plage d'octets)",
        AccessEventKinds.DownloadDenied => "Téléchargement refusé",
        AccessEventKinds.DownloadGone => "Rapport retiré ou expiré",
        AccessEventKinds.FileMissing => "Fichier introuvable",
        AccessEventKinds.PhoneForgotten => "Téléphone oublié (clés enregistrées effacées, sessions terminées)",
        AccessEventKinds.ImagesView => "Images d'examen consultées",
        AccessEventKinds.ImagesDownload => "Examen complet téléchargé (DICOM)",
        _ => kind,
    };

    /// <summary>Entries of the patient's history that are not stored under a kind of their own (derived by its query).</summary>
    public static class HistoryKinds
    {
        /// <summary>The access row's creation (its audit row carries no entity id).</summary>
        public const string AccessCreated = "access.created";
        /// <summary>A credentials notification sent by the outbox, per channel.</summary>
        public const string CredentialsSms = "credentials.sms";
        public const string CredentialsEmail = "credentials.email";
    }

    /// <summary>
    /// What the patient reads for one entry of « Historique de mon accès » (Pages/Portal/History): their own
    /// portal events, a report opened through a share, and the clinic's actions on their credentials — never who
    /// at the clinic, never an address. <paramref name="detail"/> is the stored detail, read to tell the kinds of
    /// one action apart, never shown; null for kinds the patient does not see.
    /// </summary>
    public static string? PatientHistory(string kind, CredentialHandoverKind? handover, string? reportTitle, string date) => kind switch
    {
        AccessEventKinds.LoginSuccess => PatientText.Get("history_login"),
        AccessEventKinds.Download => PatientText.Format("history_download", reportTitle ?? PatientText.Get("history_removed_report")),
        AccessEventKinds.ShareOpen => PatientText.Format("history_share_open", reportTitle ?? PatientText.Get("history_report"), date),
        AccessEventKinds.ShareDownload => PatientText.Format("history_share_download", reportTitle ?? PatientText.Get("history_report"), date),
        Access.CredentialHandover.RevealAction => handover switch
        {
            CredentialHandoverKind.Printed => PatientText.Get("history_credentials_printed"),
            CredentialHandoverKind.Shown => PatientText.Get("history_credentials_shown"),
            _ => PatientText.Get("history_credentials_handed"),
        },
        HistoryKinds.AccessCreated => PatientText.Get("history_access_created"),
        "access.deactivate" => PatientText.Get("history_access_deactivated"),
        "access.activate" or "access.reactivate" => PatientText.Get("history_access_reactivated"),
        "access.regenerate" => PatientText.Get("history_credentials_regenerated"),
        "access.unlock" => PatientText.Get("history_access_unlocked"),
        Access.AccessProvisioning.RecoverAction => PatientText.Get("history_recovered"),
        HistoryKinds.CredentialsSms => PatientText.Get("history_credentials_sms"),
        HistoryKinds.CredentialsEmail => PatientText.Get("history_credentials_email"),
        _ => null,
    };

    /// <summary>A coarse device name from a stored User-Agent, for the patient's history (never the raw string), in the request's language.</summary>
    public static string Device(string? userAgent)
    {
        var ua = userAgent ?? "";
        bool Has(string s) => ua.Contains(s, StringComparison.OrdinalIgnoreCase);
        if (Has("iPhone")) return "iPhone";
        if (Has("iPad")) return "iPad";
        if (Has("Android")) return PatientText.Get(Has("Mobile") ? "device_android_phone" : "device_android_tablet");
        if (Has("Windows Phone")) return PatientText.Get("device_windows_phone");
        if (Has("Windows")) return PatientText.Get("device_windows");
        if (Has("CrOS")) return "Chromebook";
        if (Has("Macintosh") || Has("Mac OS X")) return PatientText.Get("device_mac");
        if (Has("Linux")) return PatientText.Get("device_linux");
        return PatientText.Get("device_unknown");
    }

    public static string AlertKind(string kind) => kind switch
    {
        AlertKinds.LoginFailures => "Échecs répétés sur une clé",
        AlertKinds.IpManyKeys => "Nombreuses clés essayées depuis une adresse IP",
        AlertKinds.DownloadBurst => "Rafale de téléchargements",
        AlertKinds.ReportFile => "Fichier de rapport manquant ou modifié",
        AlertKinds.Notifications => "Notifications en échec",
        AlertKinds.SlowResponses => "Portail patient lent",
        AlertKinds.CredentialReveals => "Nombreux identifiants remis par un compte",
        AlertKinds.FhirBulkRead => "Lecture en masse par l'API FHIR",
        AlertKinds.OnlinePayment => "Paiement en ligne non enregistré",
        AlertKinds.RecoveryBurst => "Nombreux mots de passe renouvelés depuis un téléphone",
        AlertKinds.PacsUnreachable => "PACS (images) injoignable",
        _ => kind,
    };

    public static string Invoice(InvoiceStatus status) => status switch
    {
        InvoiceStatus.Draft => "Brouillon",
        InvoiceStatus.Sent => "Émise — en attente de paiement",
        InvoiceStatus.Paid => "Payée",
        InvoiceStatus.Cancelled => "Annulée",
        _ => status.ToString(),
    };

    public static string Level(AlertLevel level) => level switch
    {
        AlertLevel.Critical => "Critique",
        AlertLevel.Warning => "Avertissement",
        _ => "Information",
    };
}
