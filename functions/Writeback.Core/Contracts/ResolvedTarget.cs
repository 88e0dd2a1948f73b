using Writeback.Core.Sql;

namespace Writeback.Core.Contracts;

/// <summary>A validated target with its types parsed and its identifiers quoted, ready to build SQL from.</summary>
public sealed class ResolvedTarget
{
    public ResolvedTarget(Target contract)
    {
        ArgumentNullException.ThrowIfNull(contract);
        var problem = ContractReader.ValidateTarget(contract);
        if (problem is not null)
        {
            throw new ContractException($"target {contract.Dataset}: {problem}");
        }

        Contract = contract;
        var parts = contract.Table.Split('.');
        Schema = parts[0];
        TableName = parts[1];
        QualifiedTable = Identifiers.Quote(Schema) + "." + Identifiers.Quote(TableName);
        Columns = [.. contract.Columns.Select(c => new ResolvedColumn(c.Name, ColumnType.TryParse(c.Type)!, c.Nullable))];
        Key = [.. contract.Key];
        Partition = contract.PartitionColumn is null ? null : Columns.Single(c => c.Name == contract.PartitionColumn);
    }

    public Target Contract { get; }

    public string Dataset => Contract.Dataset;

    public string Table => Contract.Table;

    public string Schema { get; }

    public string TableName { get; }

    /// <summary><c>"schema"."table"</c>.</summary>
    public string QualifiedTable { get; }

    public IReadOnlyList<ResolvedColumn> Columns { get; }

    public IReadOnlyList<string> Key { get; }

    public LoadMode Mode => Contract.LoadMode;

    public ResolvedColumn? Partition { get; }

    public ResolvedColumn? Find(string name) => Columns.FirstOrDefault(c => c.Name == name);
}

public sealed record ResolvedColumn(string Name, ColumnType Type, bool Nullable)
{
    public string Quoted { get; } = Identifiers.Quote(Name);
}
