namespace Cimef.Site.Portal;

/// <summary>
/// The patient side's addresses, for links, redirects and messages. The pages' own <c>@page</c> directives must be
/// literals (Razor's rule): they repeat these values, and the portal tests request each of them.
/// </summary>
public static class PatientRoutes
{
    public const string Root = "/patient";
    public const string Login = Root;
    public const string Dashboard = Root + "/dashboard";
    public const string History = Root + "/history";
    public const string Shares = Root + "/shares";
    public const string Logout = Root + "/logout";
    public const string Forget = Root + "/forget";
    public const string Recover = Root + "/recover";
    public const string RecoverCode = Recover + "/code";
    public const string RecoverChoose = Recover + "/choose";
    public const string Reports = Root + "/reports";
    /// <summary>A study's images page, /patient/images/{id} (when the PACS is configured).</summary>
    public const string Images = Root + "/images";
    public const string Icons = Root + "/icons";
    public const string Manifest = Root + "/manifest.webmanifest";
    public const string ServiceWorker = Root + "/sw.js";

    public static string Report(int id) => Reports + "/" + id.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static string HistoryPage(int page) => History + "?p=" + page.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// For a path no endpoint matched (a mistyped patient address): the patient side by its prefix, so its 404 still
    /// shows the portal's layout and language. Every routed request asks its endpoint instead (<see cref="PatientSide"/>).
    /// </summary>
    public static bool Contains(PathString path) => path.StartsWithSegments(Root, StringComparison.OrdinalIgnoreCase);
}
