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
        _ => kind,
    };

    public static string AlertKind(string kind) => kind switch
    {
        AlertKinds.LoginFailures => "Échecs répétés sur une clé",
        AlertKinds.IpManyKeys => "Nombreuses clés essayées depuis une adresse IP",
        AlertKinds.DownloadBurst => "Rafale de téléchargements",
        AlertKinds.ReportFile => "Fichier de rapport manquant ou modifié",
        AlertKinds.Notifications => "Notifications en échec",
        AlertKinds.SlowResponses => "Portail patient lent",
        AlertKinds.CredentialReveals => "Nombreux identifiants remis par un compte",
        AlertKinds.OnlinePayment => "Paiement en ligne non enregistré",
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
