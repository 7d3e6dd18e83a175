using Cimef.Site.Data.Entities;

namespace Cimef.Site.Auditing;

/// <summary>French names of access-event kinds, alert kinds and levels, for the staff pages.</summary>
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
        _ => kind,
    };

    public static string AlertKind(string kind) => kind switch
    {
        "login_failures" => "Échecs répétés sur une clé",
        "ip_many_keys" => "Nombreuses clés essayées depuis une adresse IP",
        "download_burst" => "Rafale de téléchargements",
        "report_file" => "Fichier de rapport manquant ou modifié",
        "notifications" => "Notifications en échec",
        "slow_responses" => "Portail patient lent",
        "credential_reveals" => "Nombreux identifiants remis par un compte",
        _ => kind,
    };

    public static string Level(AlertLevel level) => level switch
    {
        AlertLevel.Critical => "Critique",
        AlertLevel.Warning => "Avertissement",
        _ => "Information",
    };
}
